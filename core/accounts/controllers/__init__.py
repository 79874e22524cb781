"""Pages and API routes of the accounts domain."""

from core.accounts.controllers._account import AccountPages
from core.accounts.controllers._api_keys import ApiKeyPages, ApiKeysApi
from core.accounts.controllers._common import safe_next
from core.accounts.controllers._registration import RegistrationPages
from core.accounts.controllers._signin import ApiAuth, SignInPages

__all__ = ("AccountPages", "ApiAuth", "ApiKeyPages", "ApiKeysApi", "RegistrationPages", "SignInPages", "safe_next")
