"""The tablet's touch page (表决器), served by the kiosk process on 127.0.0.1 (docs/tablet.md)."""
