-- Why: staff screen a name on request (POST /api/v1/aml/screen) with no customer or registration behind it; the
-- screening is recorded like the others, as subject kind `manual`.
ALTER TABLE aml_screenings DROP CONSTRAINT aml_screenings_subject_kind_check;--> statement-breakpoint
ALTER TABLE aml_screenings ADD CONSTRAINT aml_screenings_subject_kind_check
  CHECK (subject_kind IN ('onboarding', 'customer', 'beneficiary', 'agent', 'agent_owner', 'manual'));
