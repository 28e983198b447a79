"""Speech activity of a recording's channels, before any transcription.

Per 10 ms frame: how loud each channel is, how likely it holds speech (Silero VAD), and
for stereo calls which of that speech is the side's own voice and which is the other
side leaking in (echo, crosstalk). Everything the turn timeline is built from starts here.
"""
