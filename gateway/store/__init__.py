"""Persistence of the XDS registry (SQLAlchemy 2, Alembic): objects, query columns, patients.

- :mod:`.serialize`: XDS objects to JSON payloads and back;
- :mod:`.schema`: the tables, indexed for the Registry Stored Query (ITI-18);
- :mod:`.database`: engine, migrations, one transaction per session;
- :mod:`.registry_store`: reads and writes inside the caller's transaction.
"""

from .database import Database
from .registry_store import RegistryStore
from .serialize import from_dict, to_dict

__all__ = ["Database", "RegistryStore", "from_dict", "to_dict"]
