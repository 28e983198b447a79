"""The Ingest API and the REST API (JSON under /api), one blueprint per area."""

from __future__ import annotations

from flask import Flask

from callsight_upload.api import (
    amivoice_settings,
    analysis,
    audit,
    calls,
    ingest,
    keys,
    ops,
    qa_form,
    retention,
    scorecards,
    speakers,
    vocabulary,
    webhooks,
)


def register_api(app: Flask) -> None:
    for blueprint in (ops.bp, ingest.bp, calls.bp, analysis.bp, analysis.reruns_bp, qa_form.bp,
                      amivoice_settings.bp, vocabulary.bp, speakers.bp, retention.bp, scorecards.bp,
                      scorecards.departments_bp, scorecards.customers_bp, keys.bp, webhooks.bp, audit.bp):
        app.register_blueprint(blueprint)
