"""How the published forecasts fared and whether the inputs moved: the service's feedback.

- :mod:`.realized`: every earlier published forecast whose day now has actuals, joined with
  them: error and interval coverage per forecast day and champion version.
- :mod:`.degradation`: whether the champion's recent realized error broke its promise.
- :mod:`.drift`: the newest day's inputs against the training days, feature by feature.
- :mod:`.sections`: all three as report sections, with a plot.
"""
