"""WhatsApp channel plugin: Business Cloud API template messages and signed webhooks."""
