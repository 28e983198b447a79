"""The turn timeline of a call, built the same way from any engine's words.

    words of each side ──guards──▶ kept words ──utterances──▶ utterances ──turns──▶ Transcript

* `guards`: drops what is not the side's own speech (echo, text over non-speech) and
  what the decoder invented (repetition loops, stock phrases), counting each kind.
* `utterances`: a side's words grouped at pauses, bounded by its own speech activity,
  never by decoder segments.
* `turns`: all sides' utterances in time order, short replies inside the other's turn
  marked as backchannels.

Thresholds are in `TimelineConfig` and stored in the transcript's `meta`, so every
figure built on the timeline can be traced back to the rules that made it.
"""
