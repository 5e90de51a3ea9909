"""Customer notifications (an outbox; sending is an adapter) and planned-outage notices (R2, R13)."""
