"""Real OpenAI-style servers, installed and run offline, for the suite to be tried against.

Nothing here is imported by the suite itself: it is tooling around it (venvs per server, a
tiny home-made model, start/stop, and transcript recording). See docs/compatibility.md.
"""
