"""Where dispatch still finds the rendering of variables; the functions live in core.message_templates.rendering."""

from core.message_templates.rendering import CONTACT_VARIABLES, contact_values, render, variables_in, with_short_link

__all__ = ("CONTACT_VARIABLES", "contact_values", "render", "variables_in", "with_short_link")
