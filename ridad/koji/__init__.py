"""koji layer of ridad: the asynchronous Koji hub client.

``hub`` (KojiHub: the typed operations the scheduler uses; ``tags`` holds
its tag, target, group and package-list part), ``reconcile`` (writes whose
answer was lost: read back what Koji did, redo only the rest), ``client``
(KojiClient, KojiCall; sessions, call numbers, logouts), ``sender`` (one
request, its retries, what a resend's RetryError means), ``wire`` (XML-RPC encoding as koji's own client does it), ``transport`` (one
HTTP exchange and what its failures mean), ``upload`` (fast-upload checks),
``retry`` (RetryPolicy, retry_delay_seconds), ``auth`` (PasswordAuth, SslAuth,
GssapiAuth, hub_from_profile), ``gssapi`` (SPNEGO tokens for ``sslLogin``), ``tls`` (make_http_client for production) and ``values``
(hub dicts to ``ridad.domain.koji`` values, NVRs).
"""

__all__: list[str] = []
