"""The session server: roster, check-in, polls, ballot box, websockets, live display."""
