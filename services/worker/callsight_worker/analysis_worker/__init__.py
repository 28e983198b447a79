"""The light analysis worker (`python -m callsight_worker.analysis_worker`): analysis jobs
from their own queue, and the producer that enqueues re-runs. It loads no speech model
and imports no engine (an import-linter contract keeps it so), so it starts in seconds
and scales on its own queue."""
