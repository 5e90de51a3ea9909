"""The Kivy tablet app: a technician's whole day, offline (screens, view-models, device store, transport)."""
