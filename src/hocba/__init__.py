"""hocba: học bạ số (digital primary-school records) under Circular 27/2020."""

__version__ = "0.1.0"
