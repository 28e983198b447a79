"""What the API and the web app share: auth, sessions, the reads client, errors,
validation. Imports neither `api` nor `web`."""
