"""config layer of ridad: ``ridad.yaml`` parsed into a frozen ``Config``.

``model`` (Config and its section dataclasses, DEFAULT_CONFIG_PATH, LiveConfig),
``parse`` (parse_config, listen_is_local; the core sections), ``sections``
(the koji, messaging and auth sections), ``greenwave`` (the greenwave
section and its tie to the subscriptions), ``builds``, ``webhooks`` (build on
push) and ``reader`` (the Reader that collects problems, and the checks of
single values).
"""

__all__ = ["builds", "greenwave", "model", "parse", "reader", "sections", "webhooks"]
