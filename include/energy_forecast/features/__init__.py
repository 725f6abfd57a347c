"""Feature engineering on Spark: custom ``pyspark.ml`` stages and the preprocessing application.

Importing this package does not import pyspark; the stage modules do.
"""
