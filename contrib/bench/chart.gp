# contrib/bench/chart.gp: the chart of bench-results.md, jobs/s against
# workers for both sides.  report.mjs writes the data files into DIR (one
# line per configuration: x, median, min, max) and calls
#   gnuplot -e "dir='DIR'; out='FILE.png'; hasdrain=0|1; hassleep=0|1;
#       drainjobs=N; sleepjobs=N; rounds=N" chart.gp
# A workload that was not run (contrib/bench/run --only) has no panel.
panels = hasdrain + hassleep
set terminal pngcairo size 640 * panels,640 font "DejaVu Sans,10" enhanced
set output out
set style data yerrorlines
set logscale x 2
set yrange [0:*]
set grid ytics xtics
set key below box
set bmargin 9
set xlabel offset 0,0.3
set ylabel "jobs/s (median; bars: range over ".rounds." rounds)"
set xlabel "workers: Node processes, or bullmq-master children"
if (panels > 1) {
	set multiplot layout 1,2 title \
	    "bullmq-master against Node bullmq 6.7.0 workers"
}
if (hasdrain) {
	set title sprintf("drain: %d jobs that return at once", drainjobs)
	set xrange [0.7:24]
	plot dir."/drain-c.dat" using 1:2:3:4 lw 2 pt 7 lc rgb "#1b7837" \
		title "bullmq-master, N children", \
	     dir."/drain-node-p.dat" using 1:2:3:4 lw 2 pt 5 \
		lc rgb "#c51b7d" title "Node, P processes at concurrency 1", \
	     dir."/drain-node-c500.dat" using 1:2:3:4 with yerrorbars pt 9 \
		ps 1.6 lc rgb "#762a83" \
		title "Node, 1 process at concurrency 500", \
	     dir."/drain-node-c50.dat" using 1:2:3:4 with yerrorbars pt 11 \
		ps 1.6 lc rgb "#e08214" \
		title "Node, 1 process at concurrency 50"
}
if (hassleep) {
	set title sprintf("10 ms jobs: %d jobs that sleep 10 ms", sleepjobs)
	set xrange [40:800]
	plot dir."/sleep-c.dat" using 1:2:3:4 lw 2 pt 7 lc rgb "#1b7837" \
		title "bullmq-master, N children", \
	     dir."/sleep-node.dat" using 1:2 with lines dt 2 lw 2 \
		lc rgb "#762a83" title "Node, 1 process at concurrency 500", \
	     dir."/sleep-ceiling.dat" using 1:2 with lines dt 3 lw 1 \
		lc rgb "#555555" \
		title "the most N children can finish: N × 100 jobs/s"
}
if (panels > 1) {
	unset multiplot
}
