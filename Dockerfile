# The production image: the pinned dependencies, the code and the collected static files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
RUN useradd --create-home --uid 10001 attunement
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# collectstatic needs settings that load; these values exist only during the build.
RUN DEBUG=false SECRET_KEY=build-only-not-a-secret-0123456789-abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build SITE_URL=http://build VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput
USER attunement
EXPOSE 8000
CMD ["bin/proc", "web"]
