"""One way to parse XML that is not ours: no DTD, no entity expansion, no network.

Used for Personio's feed (careers/personio/feed.py) and the small XML parts of Office
documents candidates upload (careers/applications/containers.py).
"""

from __future__ import annotations

from lxml import etree


def hardened_parser() -> etree.XMLParser:
    """A new parser (lxml parsers must not be shared between threads) that never reads a
    DTD, expands an entity or touches the network, and drops comments, PIs and CDATA."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
    )
