"""Campaign pages: the list with live progress, details and actions (_list.py) and the wizard (_wizard.py)."""

from core.campaigns.controllers._list import CampaignPages
from core.campaigns.controllers._wizard import CampaignWizard

__all__ = ("CampaignPages", "CampaignWizard")
