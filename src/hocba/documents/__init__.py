"""Rendering of year records and booklets to PDF (Typst): QR, attachment, signature fields."""
