"""Stands in for the spreadsheet parser process and dies the way a native crash does (SIGABRT)."""

import os

if __name__ == "__main__":
    os.abort()
