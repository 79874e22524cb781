"""SMS channel plugin: SMPP 3.4 to the vendor's SMSC."""
