"""Signals measures sends for changes that bypass ``post_save``: a rescore updates stored scores
in bulk, so apps that derive from them (the outcome summaries) listen to
:data:`responses_rescored` instead."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the rescore batch's transaction; ``patient_ids`` names every patient whose stored
# scores were rewritten.
responses_rescored = Signal()
