"""Campaign pages: the list with live progress, details and actions (_list.py), the wizard (_wizard.py) and the
campaign from file (_from_file.py)."""

from core.campaigns.controllers._from_file import CampaignFromFile
from core.campaigns.controllers._list import CampaignPages
from core.campaigns.controllers._wizard import CampaignWizard

__all__ = ("CampaignFromFile", "CampaignPages", "CampaignWizard")
