"""Pages and routes of the contacts workspace: Contacts, Groups, Import History, Stop List, import and export."""

from core.contacts.controllers._export import ExportApi, ExportPages
from core.contacts.controllers._groups import GroupPages
from core.contacts.controllers._import import ImportPages, ImportsApi
from core.contacts.controllers._pages import ContactPages
from core.contacts.controllers._stoplist import StopListPages

__all__ = ("ContactPages", "ExportApi", "ExportPages", "GroupPages", "ImportPages", "ImportsApi", "StopListPages")
