"""The webhook deliverer (`python -m callsight_webhooks`): sends each delivery the database
recorded when a call became Done or Failed or got its analysis, to the webhook's URL,
signed with its secret, retrying with exponential backoff for a day. It runs apart from
the gateway's request threads and the transcription workers, so a slow or dead receiver
delays neither an upload nor a transcription."""
