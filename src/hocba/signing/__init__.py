"""Digital signatures: demo PKI, certificates and signers (DOMAIN §4, ARCHITECTURE §6)."""
