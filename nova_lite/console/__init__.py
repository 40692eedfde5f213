"""Console proxies: nova-lite-novncproxy."""
