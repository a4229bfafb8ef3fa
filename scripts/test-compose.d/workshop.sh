# The workshop service: its workstation and its portal, and the learner's path in Chromium.
. test/workshop/compose.sh
workshop_check
