"""Public code sets shipped as package data (ICD-10-CM releases, place of service, BH procedure
codes); see SOURCES.md here for their origin and licence and ``revcycle.adapters.codesets`` for
how they are read."""
