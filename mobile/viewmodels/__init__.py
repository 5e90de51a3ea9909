"""View-models: plain Python over the device store, testable without a window."""
