"""The deputy tablet app: enrolment, device key, ballot building, websocket client."""
