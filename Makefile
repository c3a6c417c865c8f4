# The two commands a new user runs; each installs what it needs first.
.PHONY: demo test setup bench clean-local reliability

demo:            ## set up, start the local AWS, deploy the walkthrough example, show a second plan has no changes
	@./scripts/demo.sh

test:            ## set up and run the whole test suite
	@./scripts/test.sh

reliability:     ## only the reliability suite: kill -9, faults, concurrent deploys, Ctrl-C, destroy with data (docs/reliability.md)
	@./scripts/setup.sh && node --import tsx --test --test-concurrency=3 --test-reporter=spec test/reliability/*.test.ts

setup:
	@./scripts/setup.sh

bench:           ## run the benchmarks (prints figures, writes JSON under bench/results/; docs/performance.md)
	@./scripts/setup.sh && for b in deploy-critical-path cli-start plan-scale local-serve lambda-package; do node --import tsx bench/$$b.ts || exit 1; done

bench-%:         ## one benchmark: bench-deploy-critical-path, bench-cli-start, bench-plan-scale, bench-local-serve or bench-lambda-package
	@./scripts/setup.sh && node --import tsx bench/$*.ts

clean-local:     ## stop the local AWS and forget what was deployed to it
	@./scripts/local-aws.sh stop
