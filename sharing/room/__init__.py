"""The live room's engine: its state table, unit of work, agenda, actions and clock."""
