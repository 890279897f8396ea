"""From a ready session to a sent claim: claim facts and the scrub, ready sessions turned into
claims, and the portal log of submissions (:mod:`revcycle.services.submissions`)."""
