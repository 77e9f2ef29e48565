"""Events and signed webhooks: the outbox every write reports to, its feed, and deliveries to subscribers."""
