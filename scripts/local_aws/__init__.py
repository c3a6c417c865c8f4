"""What AWS runs that moto does not: ECS tasks as local processes, target-group health checks, a local port per
load balancer listener, Lambda handlers in a local Python. Turned on by LOCAL_AWS_IMAGES (settings.py)."""
