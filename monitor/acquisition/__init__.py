"""Qt-free acquisition: reader threads, the hub, queues and the headless runner."""
