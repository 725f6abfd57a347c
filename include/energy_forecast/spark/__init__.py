"""Spark plumbing: sessions and driver settings, standalone-cluster checks, and the JVM
class-data archive that shortens every driver's start.

Importing this package does not import pyspark; the session functions do.
"""
