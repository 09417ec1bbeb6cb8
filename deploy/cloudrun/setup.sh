#!/bin/sh
# Every command to run forensics daily as a Cloud Run Job started by Cloud Scheduler.
# Read it, set the four variables, then run it once from the repository root (or step by step).
set -eu
PROJECT=${PROJECT:-netra-staging}
REGION=${REGION:-us-central1}
BUCKET=${BUCKET:-$PROJECT-forensics}
IMAGE=$REGION-docker.pkg.dev/$PROJECT/forensics/forensics:latest

RUNNER=forensics-reader@$PROJECT.iam.gserviceaccount.com      # the job runs as this account
INVOKER=forensics-scheduler@$PROJECT.iam.gserviceaccount.com  # Cloud Scheduler calls as this one

gcloud config set project "$PROJECT"
gcloud services enable run.googleapis.com cloudscheduler.googleapis.com \
    artifactregistry.googleapis.com cloudbuild.googleapis.com secretmanager.googleapis.com

# 1. The job's identity. On the project it holds exactly two roles, both read-only:
gcloud iam service-accounts create forensics-reader \
    --display-name="forensics: reads logs and metrics"
gcloud projects add-iam-policy-binding "$PROJECT" \
    --member="serviceAccount:$RUNNER" --role=roles/logging.viewer --condition=None
gcloud projects add-iam-policy-binding "$PROJECT" \
    --member="serviceAccount:$RUNNER" --role=roles/monitoring.viewer --condition=None
# Nothing else on the project. The store must persist between runs, so the account may write
# objects in ONE bucket (a grant on the bucket, not a project role), and read ONE secret:
gcloud storage buckets create "gs://$BUCKET" --location="$REGION" --uniform-bucket-level-access
gcloud storage buckets add-iam-policy-binding "gs://$BUCKET" \
    --member="serviceAccount:$RUNNER" --role=roles/storage.objectUser
# The webhook URL holds a token: a secret, never an environment value in the job spec.
printf '%s' "${FORENSICS_WEBHOOK:?set FORENSICS_WEBHOOK to the Slack webhook URL}" \
    | gcloud secrets create forensics-webhook --data-file=-
gcloud secrets add-iam-policy-binding forensics-webhook \
    --member="serviceAccount:$RUNNER" --role=roles/secretmanager.secretAccessor

# 2. The image.
gcloud artifacts repositories create forensics --repository-format=docker --location="$REGION"
gcloud builds submit --config deploy/cloudrun/cloudbuild.yaml --substitutions="_IMAGE=$IMAGE" .

# 3. The job: one task, no retries (a rerun would collect and upload again), 1 h timeout.
#    forensics.toml settings can be given as flags in run-daily.sh or baked into the image;
#    FORENSICS_PROJECT is enough when every service of the project should be collected.
gcloud run jobs create forensics-daily \
    --region="$REGION" --image="$IMAGE" \
    --service-account="$RUNNER" \
    --tasks=1 --parallelism=1 --max-retries=0 --task-timeout=3600s \
    --cpu=2 --memory=4Gi \
    --set-env-vars="FORENSICS_PROJECT=$PROJECT,FORENSICS_LOCK_TIMEOUT=60" \
    --set-secrets="FORENSICS_WEBHOOK=forensics-webhook:latest" \
    --add-volume="name=store,type=cloud-storage,bucket=$BUCKET" \
    --add-volume-mount="volume=store,mount-path=/gcs"

# 4. The schedule: 00:20 UTC daily, calling the Run Admin API as the invoker account, which may
#    run this one job and nothing else.
gcloud iam service-accounts create forensics-scheduler \
    --display-name="forensics: starts the daily job"
gcloud run jobs add-iam-policy-binding forensics-daily --region="$REGION" \
    --member="serviceAccount:$INVOKER" --role=roles/run.invoker
gcloud scheduler jobs create http forensics-daily \
    --location="$REGION" --schedule="20 0 * * *" --time-zone="Etc/UTC" \
    --http-method=POST \
    --uri="https://run.googleapis.com/v2/projects/$PROJECT/locations/$REGION/jobs/forensics-daily:run" \
    --oauth-service-account-email="$INVOKER"

# 5. Try it now, and read what it found:
gcloud run jobs execute forensics-daily --region="$REGION" --wait
gcloud storage cat "gs://$BUCKET/reports/diff-$(date -u -d yesterday +%F).md"
