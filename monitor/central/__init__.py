"""The clinic's central station over an MQTT broker (issue 17).

- :mod:`.protocol`: the broker URL, the topic tree and the versioned JSON
  messages (no I/O).
- :mod:`.publisher`: the chair's side, fed by the hub, never blocking it.
- :mod:`.station`: the central's model of every chair (no I/O, no Qt).
- :mod:`.listener`: the central's MQTT client and its headless printer.

Qt-free, like everything outside ``monitor.ui``; it imports only ``monitor.core``
and paho-mqtt.
"""
