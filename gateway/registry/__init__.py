"""Document Registry services: one call per IHE transaction."""

from .register import DocumentRegistry, RegisterOutcome

__all__ = ["DocumentRegistry", "RegisterOutcome"]
