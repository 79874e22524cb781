"""Outgoing e-mail (X-3): messages rendered from templates, stored, and delivered by a saq job."""
