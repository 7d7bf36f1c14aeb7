"""The panel's database backends (postgresql/base.py)."""
