"""The lifecycle worker (`python -m callsight_worker.lifecycle`): what happens to a call
after Done. It finishes deletions (the tombstones the gateway and the retention write)
and reaps what an organisation's retention says must go. Workers own transcripts and
analyses, so removing them is a worker's job; this one loads no model, takes no queue
and imports no engine (an import-linter contract keeps it so)."""
