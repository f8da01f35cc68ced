"""Notifications the person chose: ntfy (or any webhook taking a plain-text POST) and e-mail over
SMTP, sent when a condition of the box starts (init finished, drive unplugged, missed epoch, proof
over budget, under-voltage, update result ...). Nothing is sent until the person switches it on."""
