"""An external plugin as a third party would write it: it imports only from ``core``."""
