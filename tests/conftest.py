"""Root test configuration, loaded before any test module.

yfinance must use `requests` (not curl_cffi) so the `responses` library can replay
recorded Yahoo answers: the switch is read when yfinance is imported, hence here.
"""

import os

os.environ["YF_DISABLE_CURL_CFFI"] = "1"
