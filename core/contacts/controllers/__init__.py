"""Pages of the contacts workspace: Contacts, Groups and Stop List tabs."""

from core.contacts.controllers._groups import GroupPages
from core.contacts.controllers._pages import ContactPages
from core.contacts.controllers._stoplist import StopListPages

__all__ = ("ContactPages", "GroupPages", "StopListPages")
