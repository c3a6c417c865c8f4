# The two commands a new user runs; each installs what it needs first.
.PHONY: demo test setup bench clean-local

demo:            ## set up, start the local AWS, deploy the walkthrough example, show a second plan has no changes
	@./scripts/demo.sh

test:            ## set up and run the whole test suite
	@./scripts/test.sh

setup:
	@./scripts/setup.sh

bench:           ## run the benchmarks (prints figures, writes JSON under bench/results/)
	@./scripts/setup.sh && node --import tsx bench/plan-scale.ts

clean-local:     ## stop the local AWS and forget what was deployed to it
	@./scripts/local-aws.sh stop
